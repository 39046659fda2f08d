"""Mini-program endpoints of accounts (contract §2.1, §2.4, §3), one module per concern: ``login``,
``tokens`` (devices, logout), ``wechat`` (binding), ``claims``, ``registration``, ``current_user``
(account, card, ``/api/v1/me``), ``avatars``, ``directory`` (departments, contacts, user search),
``friends`` and ``groups`` (groups, members, classes). ``accounts/api/urls.py`` maps each path."""

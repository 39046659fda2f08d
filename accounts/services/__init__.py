"""Writes for accounts, one module per concern (import the function from its module):

* ``names``: the pinyin search and sort keys derived from a name;
* ``users``: creating users, the profile and directory card, changing the password;
* ``tokens``: per-device login tokens; ``login``: password and WeChat-code logins;
* ``wechat``: exchanging a ``wx.login()`` code, binding and unbinding WeChat;
* ``friends``, ``groups`` (members and titles), ``claims`` (taking over an imported account),
  ``registration`` (open sign-up and its approval), ``avatars``.
"""

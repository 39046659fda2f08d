import pytest

from accounts.tests.factories import DepartmentFactory, UserFactory


@pytest.fixture
def department(db):
    return DepartmentFactory()


@pytest.fixture
def teacher(department):
    return UserFactory(department=department, last_name="王", first_name="老师")


@pytest.fixture
def colleague(department):
    return UserFactory(department=department, last_name="李", first_name="同事")

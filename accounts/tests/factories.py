import factory
from factory.django import DjangoModelFactory

from accounts.models import CampusGroup, Department, Friendship, GroupMembership, SchoolClass, User, UserKind
from accounts.pinyin import name_keys

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏飞宇浩然子轩梓涵一诺欣怡晨阳思远嘉怡雨涵博文"
)


class DepartmentFactory(DjangoModelFactory):
    class Meta:
        model = Department
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"测试系{n}")


class SchoolClassFactory(DjangoModelFactory):
    class Meta:
        model = SchoolClass

    name = factory.Sequence(lambda n: f"计科{2024}{n:02d}班")
    grade = 2024
    major = "计算机科学与技术"
    department = factory.SubFactory(DepartmentFactory)


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"T{10000 + n}")
    last_name = factory.Sequence(lambda n: SURNAMES[n % len(SURNAMES)])
    first_name = factory.Sequence(lambda n: GIVEN[n % len(GIVEN)] + GIVEN[(n * 7 + 3) % len(GIVEN)])
    email = factory.LazyAttribute(lambda u: f"{u.username.lower()}@example.edu.cn")
    kind = UserKind.TEACHER
    department = factory.SubFactory(DepartmentFactory)
    name_pinyin = factory.LazyAttribute(lambda u: name_keys(u.last_name, u.first_name).pinyin)
    name_initials = factory.LazyAttribute(lambda u: name_keys(u.last_name, u.first_name).initials)
    alpha = factory.LazyAttribute(lambda u: name_keys(u.last_name, u.first_name).alpha)
    password = factory.django.Password("pass-word-123")


class StudentFactory(UserFactory):
    username = factory.Sequence(lambda n: f"S{2024000 + n}")
    kind = UserKind.STUDENT
    school_class = factory.SubFactory(SchoolClassFactory)


class CampusGroupFactory(DjangoModelFactory):
    class Meta:
        model = CampusGroup

    name = factory.Sequence(lambda n: f"学生会{n}")


class GroupMembershipFactory(DjangoModelFactory):
    class Meta:
        model = GroupMembership

    group = factory.SubFactory(CampusGroupFactory)
    user = factory.SubFactory(StudentFactory)
    title = "成员"


class FriendshipFactory(DjangoModelFactory):
    class Meta:
        model = Friendship

    user = factory.SubFactory(UserFactory)
    friend = factory.SubFactory(UserFactory)

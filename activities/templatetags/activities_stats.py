from django import template

register = template.Library()


@register.simple_tag
def group_rate(group, item_id):
    return group.rate(item_id)


@register.filter
def get_count(counts, item_id):
    return counts.get(item_id, 0)

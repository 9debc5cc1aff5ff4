"""Template tags of the network app."""

from django import template

from network.models import Subscription

register = template.Library()


@register.simple_tag(takes_context=True)
def project_subscription(context, project_id):
    """The viewer's subscription to the project ``project_id``, or None."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if not project_id or user is None or not user.is_authenticated:
        return None
    return Subscription.objects.filter(user=user, kind=Subscription.Kind.PROJECT,
                                       project_id=project_id).first()

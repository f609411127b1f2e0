"""SCIM 2.0 provisioning (RFC 7643/7644) at ``/scim/v2/{tenant}/`` for Entra ID, Okta and others.

Built on ``scim2-models`` (resources, PATCH, filters) and ``scim2-server`` (the protocol);
see docs/scim.md for the mapping and how to point an identity provider at it.
"""

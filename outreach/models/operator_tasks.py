"""Operator tasks (Campaign Ops): posts we do not publish automatically, with SOPs."""

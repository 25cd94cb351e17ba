"""Reporting selectors, one module per concern: ``metrics`` (campaign numbers by window, the list
API's live numbers), ``trend`` (sends and replies per day), ``ab_results`` (A/B tests per step),
``weekly`` (a weekly summary's numbers), ``roi`` (revenue against spend) and ``funnel`` (the funnel
stages). Import from those modules."""

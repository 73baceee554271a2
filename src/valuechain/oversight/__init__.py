"""Misuse response: rules over traffic, events, suspension and reinstatement of keys and organisations."""

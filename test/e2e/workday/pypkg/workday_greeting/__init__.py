"""Installed by pip from the e2e suite's local index; importing it proves the wheel arrived whole."""


def greet(name: str) -> str:
    return f"hello {name} from workday-greeting"

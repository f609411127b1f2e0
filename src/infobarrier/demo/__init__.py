"""The seed document's Company ABC tenant, as a runnable demo."""

"""Custom Rasa NLU components for German with little data (registered with DefaultV1Recipe).

Import the components by their module path in config.yml (``bot.nlu.tokenizer.GermanTokenizer``,
...). This package itself stays import-light: the action server uses :mod:`bot.nlu.language`.
"""

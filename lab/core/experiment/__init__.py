"""What an experiment is made of, as the user writes it: `{{variable}}` templates (`template`),
experiment files in TOML (`file`), test cases from CSV/JSONL (`cases`), and the prompt
technique snippets (`snippets`), and what an edit to a project's lists did, in words (`edits`).

May import: `model`, `runtime`.
"""

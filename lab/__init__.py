"""Prompt Lab: a desktop workbench for prompt engineers."""

__version__ = "0.1.0"
APP_NAME = "Prompt Lab"
APP_ID = "io.github.promptlab.PromptLab"

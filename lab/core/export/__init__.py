"""Fine-tuning dataset export: one module per target format, plus validation, split and card."""

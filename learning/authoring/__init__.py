"""The trainer studio: drafts, editor, publish, diff, zip import/export, item analysis, essay grading."""

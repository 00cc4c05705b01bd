"""Semantic labels: read both schemas Isaac Sim knows, plan and apply labeling rules."""

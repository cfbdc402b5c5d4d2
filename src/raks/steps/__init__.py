"""raks.steps"""

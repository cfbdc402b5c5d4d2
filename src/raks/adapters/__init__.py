"""raks.adapters"""

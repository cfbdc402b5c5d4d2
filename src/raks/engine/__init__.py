"""raks.engine"""

"""Thin Connexion handlers: ``handlers/<tag>.py:<snake_case(operationId)>``.

Each handler parses, authorises, calls one service function and shapes the response.
"""

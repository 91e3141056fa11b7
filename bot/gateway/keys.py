"""Typed application state: every shared object of the gateway under one ``web.AppKey``."""

from __future__ import annotations

from aiohttp import web

from bot.gateway.chat import ChatService
from bot.gateway.dialogue import RasaClient
from bot.settings import Settings
from bot.store import Store

SETTINGS = web.AppKey("settings", Settings)
STORE = web.AppKey("store", Store)
DIALOGUE = web.AppKey("dialogue", RasaClient)
CHAT = web.AppKey("chat", ChatService)

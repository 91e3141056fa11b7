"""Mount the voice line (voice/) on the gateway: browser page, vosk-server compatible socket,
call routing for the PBX, and the Asterisk AudioSocket server when a port is configured."""

from __future__ import annotations

from aiohttp import web

from bot.catalogue import load_catalogue
from bot.gateway import keys
from bot.observability.gateway import METRICS
from bot.settings import Settings


def setup(app: web.Application, settings: Settings) -> None:
    from bot.observability.voice import measure_recognition, voice_event_observer
    from voice.handoff import EscalatingHandoffQueue
    from voice.hints import catalogue_phrase_hints
    from voice.settings import VoiceSettings
    from voice.web import VoiceDeps, add_routes

    # Phrase hints only matter with a model; without one the voice routes answer 503.
    hints = (catalogue_phrase_hints(load_catalogue(settings.catalogue))
             if settings.vosk_model_path else ())

    def deps(app: web.Application) -> VoiceDeps:
        return VoiceDeps(app[keys.DIALOGUE],
                         EscalatingHandoffQueue(app[keys.STORE], app[keys.CHAT]),
                         on_event=voice_event_observer(app[METRICS]))

    async def measure(app: web.Application) -> None:  # after the voice runtime started
        measure_recognition(app, app[METRICS])

    audiosocket = (settings.host, settings.audiosocket_port) if settings.audiosocket_port else None
    add_routes(app, VoiceSettings.from_settings(settings, phrase_hints=hints), deps,
               audiosocket=audiosocket)
    app.on_startup.append(measure)

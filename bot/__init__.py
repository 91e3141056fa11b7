"""buergerbot: an open-source assistant for citizens' questions to a city administration."""

"""The bundled sample city, Musterstadt (fictional; written for buergerbot)."""

"""The agencies' side: personal signed links (and, later, the web form behind them)."""

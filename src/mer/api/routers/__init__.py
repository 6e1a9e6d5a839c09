"""One router per resource: predictions, tracks, the review queue, playlists, feedback, and the probes."""

"""live: the live side of a multi-room conference (Q&A, polls, venue screens, video)."""

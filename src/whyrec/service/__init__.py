"""The HTTP service: FastAPI app, web chat page, guards and chat sessions (needs `pip install whyrec[serve]`)."""

FROM python:3.11-slim
WORKDIR /app
# Dependencies first, so code changes rebuild quickly.
COPY pyproject.toml README.md ./
RUN mkdir live && touch live/__init__.py && pip install --no-cache-dir -e . && rm -r live
COPY live ./live
COPY web ./web
COPY config ./config
# Editable, so the package finds web/ (templates, static files) beside it in /app.
RUN pip install --no-cache-dir --no-deps -e .
ENV LIVE_HOST=0.0.0.0 LIVE_PORT=8000 LIVE_DATA_DIR=/data
EXPOSE 8000
CMD ["live", "serve"]

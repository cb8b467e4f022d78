FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY live ./live
RUN pip install --no-cache-dir .
COPY web ./web
COPY config ./config
ENV LIVE_HOST=0.0.0.0 LIVE_PORT=8000 LIVE_DATA_DIR=/data
EXPOSE 8000
CMD ["live", "serve"]

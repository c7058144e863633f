# One image for every hub process; the command picks the role (serve, dispatcher, worker).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 HUB_HOME=/var/lib/hub
WORKDIR /app
COPY pyproject.toml README.md ./
COPY hub ./hub
COPY workers ./workers
COPY sinks ./sinks
RUN pip install --no-cache-dir . \
 && useradd --system --uid 10001 --home-dir /var/lib/hub --create-home hub
USER hub
EXPOSE 8000
CMD ["hubctl", "serve", "--host", "0.0.0.0", "--port", "8000"]

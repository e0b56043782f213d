import { CouncilError, type Logger } from "../core/index.js";

/**
 * Posts a Slack-compatible `{ text }` message. Never throws: a failure is logged as WEBHOOK_FAILED and
 * returned, so a notification can never block a rollback.
 */
export async function postWebhook({ url, text, logger, timeoutMs = 5000, fetch: fetchImpl = fetch }: { url: string; text: string; logger: Logger; timeoutMs?: number; fetch?: typeof fetch }): Promise<CouncilError | null> {
  try {
    const response = await fetchImpl(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ text }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.body?.cancel().catch(() => undefined);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return null;
  } catch (cause) {
    const error = new CouncilError("WEBHOOK_FAILED", `Webhook ${new URL(url).host} did not accept the notification: ${(cause as Error).message}`, { cause });
    logger.error({ code: error.code, err: error }, error.message);
    return error;
  }
}

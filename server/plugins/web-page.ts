import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { FastifyPluginAsync } from "fastify";
import { PROJECT_ROOT } from "../../core/index.js";

const WEB_DIR = join(PROJECT_ROOT, "server", "web");
const SECURITY_HEADERS = {
  "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cache-control": "no-cache",
};

/** The web chat page at `/` and the review-queue admin page at `/review` (plain HTML, CSS and JS in server/web/). */
export const webPagePlugin: FastifyPluginAsync = async (app) => {
  const files = {
    "/": { type: "text/html; charset=utf-8", body: await readFile(join(WEB_DIR, "index.html"), "utf8") },
    "/chat.js": { type: "text/javascript; charset=utf-8", body: await readFile(join(WEB_DIR, "chat.js"), "utf8") },
    "/chat.css": { type: "text/css; charset=utf-8", body: await readFile(join(WEB_DIR, "chat.css"), "utf8") },
    // The admin page of the review queue (it calls the admin API with the token typed into it).
    "/review": { type: "text/html; charset=utf-8", body: await readFile(join(WEB_DIR, "review.html"), "utf8") },
    "/review.js": { type: "text/javascript; charset=utf-8", body: await readFile(join(WEB_DIR, "review.js"), "utf8") },
    "/review.css": { type: "text/css; charset=utf-8", body: await readFile(join(WEB_DIR, "review.css"), "utf8") },
  };
  for (const [path, file] of Object.entries(files)) {
    app.get(path, async (_request, reply) => reply.headers(SECURITY_HEADERS).type(file.type).send(file.body));
  }
  // Browsers ask for it on every page load; answer "no icon" instead of a 404.
  app.get("/favicon.ico", async (_request, reply) => reply.code(204).send());
};

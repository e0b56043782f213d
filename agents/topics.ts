import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

/** A route the router can pick: a bounded name (it becomes a metric label) and what it covers. */
export interface Topic {
  name: string;
  description: string;
}

/** The route for questions no topic fits. Always available. */
export const GENERAL_ROUTE = "general";

/** IT-helpdesk topics used when the knowledge base has no topic folders and none are configured. */
export const DEFAULT_TOPICS: readonly Topic[] = [
  { name: "network", description: "wifi wireless vpn dns ip address ping proxy firewall ethernet ports ssh connection internet router" },
  { name: "accounts", description: "password reset login user account sudo groups permissions two-factor locked out username" },
  { name: "email", description: "email mail outlook thunderbird smtp imap calendar inbox attachment spam" },
  { name: "files", description: "files directories folders copy move rename delete archive tar zip find search disk usage du df chmod chown" },
  { name: "software", description: "install update upgrade package apt dpkg snap pip npm uninstall version application program" },
  { name: "hardware", description: "printer monitor display keyboard mouse battery usb disk drive memory ram cpu bluetooth sound" },
  { name: "processes", description: "process kill cpu load service systemctl journal logs cron schedule top ps boot startup" },
  { name: "security", description: "virus malware phishing encryption certificate gpg ssh keys firewall lock screen backup" },
];

const MAX_TOPICS = 32;
const MAX_TITLES = 40;

/**
 * Topics from a knowledge-base folder: each subfolder holding markdown is a topic named after the folder,
 * described by the titles of its files. Returns an empty list when the folder has no such subfolders
 * (callers then use {@link DEFAULT_TOPICS}). At most 32 topics (route names are metric labels).
 */
export function topicsFromDirectory(dir: string): Topic[] {
  if (!existsSync(dir)) return [];
  const entries = readdirSync(dir).sort();
  const topics: Topic[] = [];
  for (const entry of entries) {
    const path = join(dir, entry);
    if (entry.startsWith(".") || !statSync(path).isDirectory()) continue;
    const titles = readdirSync(path)
      .filter((file) => file.endsWith(".md"))
      .slice(0, MAX_TITLES)
      .map((file) => markdownTitle(join(path, file)) ?? file.replace(/\.md$/, "").replace(/[-_]/g, " "));
    if (titles.length === 0) continue;
    topics.push({ name: routeName(entry), description: `${entry.replace(/[-_]/g, " ")} ${titles.join(" ")}` });
    if (topics.length === MAX_TOPICS) break;
  }
  return topics;
}

function markdownTitle(file: string): string | undefined {
  const head = readFileSync(file, "utf8").slice(0, 2000);
  return /^#\s+(.+)$/m.exec(head)?.[1]?.trim();
}

/** A route name safe for metric labels: lower-case kebab, at most 32 characters. */
export function routeName(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 32) || GENERAL_ROUTE;
}

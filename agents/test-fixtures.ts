import { HashEmbeddings } from "../models/embeddings/hash-embeddings.js";
import { FakeKnowledgeBase } from "../test/fakes/index.js";

/** A small helpdesk knowledge base for agent and graph unit tests. */
export const FIXTURE_PASSAGES = [
  {
    id: "tar",
    title: "tar",
    text: "> Archiving utility.\n\n- [c]reate an archive and write it to a [f]ile:\n\n`tar cf {{target.tar}} {{file1 file2}}`\n\n- E[x]tract a (compressed) archive [f]ile into the current directory:\n\n`tar xf {{source.tar[.gz|.bz2|.xz]}}`",
  },
  {
    id: "ls",
    title: "ls",
    text: "> List directory contents.\n\n- List all files, including hidden files:\n\n`ls -a`\n\n- Long format list with size, permissions and owner:\n\n`ls -l`",
  },
  {
    id: "vpn",
    title: "Reconnect the VPN",
    text: "If the VPN drops, open the VPN client and press Reconnect. If it still fails, restart the network service with `sudo systemctl restart NetworkManager`.",
  },
  {
    id: "password",
    title: "Reset your password",
    text: "To reset your password, run `passwd` and enter the old password, then the new one twice. Locked accounts need the helpdesk to unlock them.",
  },
];

export function fixtureKnowledgeBase(): FakeKnowledgeBase {
  return new FakeKnowledgeBase(FIXTURE_PASSAGES);
}

export function fixtureEmbeddings(): HashEmbeddings {
  return new HashEmbeddings({ dimensions: 256 });
}

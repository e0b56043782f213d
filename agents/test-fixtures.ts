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

/** gzip(1)'s options as `man` renders them (option-amend and amend-node tests). */
export const GZIP_MANUAL = `
OPTIONS
       -c --stdout --to-stdout
              Write output on standard output; keep original files unchanged.

       -d --decompress --uncompress
              Decompress.

       -k --keep
              Keep (don't delete) input files during compression or decompression.

       -l --list
              For each compressed file, list the following fields: compressed size, uncompressed size, ratio.

       -r --recursive
              Travel the directory structure recursively.

       -v --verbose
              Verbose. Display the name and percentage reduction for each file compressed or decompressed.

       -h --help
              Display a help screen and quit.
`;

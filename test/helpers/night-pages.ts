/**
 * Two knowledge-base pages in tldr-pages format (`- description:` then the backticked command), written for
 * test/e2e/two-replicas-night.int.test.ts in this project's own words. The reading seedling copies a command right
 * when the question repeats its description, and copies the wrong one (`tar xvf`, the unit above) for "unpack …
 * into another folder". That task is written `tar -C dir -xf archive`, so it differs from its neighbour at the first
 * option (see the test for what `tar xf archive -C dir` did).
 */
export const NIGHT_PAGES: Readonly<Record<string, string>> = {
  tar: `# tar

> Packs files into one archive and unpacks them again.
> Usually combined with a compressor such as \`gzip\` or \`xz\`.

- Pack files into a new archive file:

\`tar cf {{path/to/archive.tar}} {{path/to/file1 path/to/file2 ...}}\`

- Pack files into a new gzip-compressed archive file:

\`tar czf {{path/to/archive.tar.gz}} {{path/to/file1 path/to/file2 ...}}\`

- Unpack an archive file into the current directory, naming each file:

\`tar xvf {{path/to/archive.tar}}\`

- Unpack an archive file into another directory:

\`tar {{[-C|--directory]}} {{path/to/directory}} -xf {{path/to/archive.tar}}\`

- Show the files inside an archive without unpacking it:

\`tar tvf {{path/to/archive.tar}}\`

- Append files to an existing archive file:

\`tar rf {{path/to/archive.tar}} {{path/to/file}}\`

- Unpack only the files whose names match a pattern:

\`tar xf {{path/to/archive.tar}} --wildcards "{{*.txt}}"\`
`,
  grep: `# grep

> Searches files for lines that match a pattern.

- Search a file for a pattern:

\`grep "{{pattern}}" {{path/to/file}}\`

- Search for a pattern ignoring upper and lower case:

\`grep {{[-i|--ignore-case]}} "{{pattern}}" {{path/to/file}}\`

- Search every file under a directory:

\`grep {{[-r|--recursive]}} "{{pattern}}" {{path/to/directory}}\`

- Count the lines that match a pattern:

\`grep {{[-c|--count]}} "{{pattern}}" {{path/to/file}}\`

- Show the lines that do not match a pattern:

\`grep {{[-v|--invert-match]}} "{{pattern}}" {{path/to/file}}\`

- Print the line number of each match:

\`grep {{[-n|--line-number]}} "{{pattern}}" {{path/to/file}}\`

- List only the names of files that contain a match:

\`grep {{[-l|--files-with-matches]}} "{{pattern}}" {{path/to/directory}}/*\`
`,
};

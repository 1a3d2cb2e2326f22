import type { Problem } from './errors';

/**
 * NUL bytes in an environment file, one problem per line that has one. YAML allows
 * none anywhere, comments included (YAML 1.2.2, 5.1 "Character Set": c-printable
 * leaves out #x0), yet the `yaml` parser reads one without complaint, into a value
 * or a comment: a NUL means the file was corrupted (or is not text), so nothing
 * read from it can be trusted.
 */
export function nulByteProblems(text: string, displayPath: string): Problem[] {
  if (!text.includes('\0')) return [];
  return text.split('\n').flatMap((line, i) => {
    const column = line.indexOf('\0');
    if (column === -1) return [];
    return [
      {
        file: displayPath,
        line: i + 1,
        column: [...line.slice(0, column)].length + 1,
        path: '',
        message:
          'a NUL byte (0x00): YAML allows none anywhere in a file, comments included, and one means the file is corrupted; restore it from version control or retype the line',
      },
    ];
  });
}

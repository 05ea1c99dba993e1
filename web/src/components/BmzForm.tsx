import { useState } from 'preact/hooks';
import type { BmzDetails } from '../protocol.js';

/** BMZ names allow 5–128 letters, digits, spaces and `_+-()`. */
const NAME_PATTERN = /^[A-Za-z0-9_+\- ()]{5,128}$/;

function defaultName(fileName: string, algorithm: string): string {
  const stem = fileName.replace(/(\.ome)?\.[^.]*$/i, '').replace(/[^A-Za-z0-9_+\- ()]+/g, ' ');
  return `${algorithm.toUpperCase()} ${stem}`.trim().slice(0, 128);
}

interface Props {
  fileName: string;
  algorithm: string;
  disabled: boolean;
  onExport(details: BmzDetails): void;
}

/** Name, authors and description of a BioImage Model Zoo package, and the button that builds it. */
export function BmzForm({ fileName, algorithm, disabled, onExport }: Props) {
  const [name, setName] = useState(() => defaultName(fileName, algorithm));
  const [authors, setAuthors] = useState('');
  const [description, setDescription] = useState(
    `${algorithm.toUpperCase()} denoising trained in the browser with careamics-js`,
  );
  const authorList = authors
    .split(';')
    .map((a) => a.trim())
    .filter((a) => a !== '');
  const problem = !NAME_PATTERN.test(name)
    ? 'The name needs 5–128 letters, digits, spaces or _+-()'
    : authorList.length === 0
      ? 'Give at least one author (separate several with ";")'
      : undefined;
  return (
    <details class="bmz">
      <summary>BioImage Model Zoo package</summary>
      <label>
        Name
        <input value={name} data-testid="bmz-name" onInput={(e) => setName(e.currentTarget.value)} />
      </label>
      <label>
        Authors
        <input
          value={authors}
          placeholder="Ada Lovelace; Alan Turing"
          data-testid="bmz-authors"
          onInput={(e) => setAuthors(e.currentTarget.value)}
        />
      </label>
      <label>
        Description
        <input value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
      </label>
      {problem && <p class="note">{problem}</p>}
      <button
        type="button"
        data-testid="download-bmz"
        disabled={disabled || problem !== undefined}
        onClick={() => onExport({ name, authors: authorList, description })}
      >
        Download BMZ package (.zip)
      </button>
    </details>
  );
}

/** Saves bytes as a file through a temporary link (no server involved). */
export function download(bytes: Uint8Array<ArrayBuffer>, name: string, type: string): void {
  const url = URL.createObjectURL(new Blob([bytes], { type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** `cells.tif` → `cells_n2v` */
export function outputStem(name: string, algorithm: string): string {
  return `${name.replace(/(\.ome)?\.[^.]*$/i, '')}_${algorithm}`;
}

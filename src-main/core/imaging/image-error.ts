/**
 * Errors raised while reading or decoding one image file, each with a stable code
 * and a message that names the file and says what the user can do about it.
 */
import path from 'node:path';
import type { FileFailure } from '../../../src-shared/types.ts';

/** Why an image file could not be used. */
export type ImageErrorCode =
  | 'NOT_FOUND'
  | 'NOT_READABLE'
  | 'IS_DIRECTORY'
  | 'EMPTY'
  | 'NOT_AN_IMAGE'
  | 'UNSUPPORTED_FORMAT'
  | 'TRUNCATED'
  | 'CORRUPT'
  | 'TOO_LARGE'
  | 'TOO_SMALL'
  | 'NOT_GREY'
  | 'UNFAMILIAR';

const ADVICE: Record<ImageErrorCode, string> = {
  NOT_FOUND: 'the file does not exist; check the path',
  NOT_READABLE: 'permission denied; check the file permissions or copy it somewhere readable',
  IS_DIRECTORY: 'this is a folder, not an image; pass the images inside it or the folder as a dataset',
  EMPTY: 'the file is empty (0 bytes); re-export or re-copy it from the PACS',
  NOT_AN_IMAGE: 'this is not an image file (no JPEG or PNG signature); check that the right file was chosen',
  UNSUPPORTED_FORMAT: 'this image format is not supported; convert it to PNG or JPEG',
  TRUNCATED: 'the file is truncated (image data ends early); re-export or re-copy it from the PACS',
  CORRUPT: 'the image data is damaged and cannot be decoded; re-export or re-copy it from the PACS',
  TOO_LARGE: 'the image is too large to process safely; downsample it before loading',
  TOO_SMALL: 'the image is too small to be a chest X-ray; use the original full-size export',
  UNFAMILIAR: 'unlike the chest X-rays this model was trained on, so it was not scored; check that this file is a frontal chest X-ray and have a reader read it (cxr classify --allow-unfamiliar scores it anyway)',
  NOT_GREY: 'a colour picture, not a grey radiograph; check that this file is a chest X-ray (a radiograph exported in colour is still grey: export it again in greyscale)',
};

/** An image file that could not be read or decoded. */
export class ImageError extends Error {
  readonly file: string;
  readonly code: ImageErrorCode;

  /**
   * @param file the path as the user gave it (shown as its base name in the message)
   * @param code what went wrong
   * @param detail optional specifics inserted before the advice, e.g. "JPEG data ends early"
   */
  constructor(file: string, code: ImageErrorCode, detail?: string, options?: { cause?: unknown }) {
    super(formatMessage(file, code, detail), options);
    this.name = 'ImageError';
    this.file = file;
    this.code = code;
  }
}

function formatMessage(file: string, code: ImageErrorCode, detail?: string): string {
  const advice = ADVICE[code];
  const name = path.basename(file) || file;
  if (!detail) return `${name}: ${advice}`;
  // Put the detail right after the first clause: "the file is truncated (JPEG data ends early); re-export…"
  const cut = advice.indexOf(';');
  if (cut < 0) return `${name}: ${advice} (${detail})`;
  const head = advice.slice(0, cut).replace(/ \([^)]*\)$/, '');
  return `${name}: ${head} (${detail})${advice.slice(cut)}`;
}

/** Maps a Node fs error (ENOENT, EACCES, EISDIR…) to an ImageError; other errors give undefined. */
export function imageErrorFromFsError(err: unknown, file: string): ImageError | undefined {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  switch (code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return new ImageError(file, 'NOT_FOUND', undefined, { cause: err });
    case 'EACCES':
    case 'EPERM':
      return new ImageError(file, 'NOT_READABLE', undefined, { cause: err });
    case 'EISDIR':
      return new ImageError(file, 'IS_DIRECTORY', undefined, { cause: err });
    default:
      return undefined;
  }
}

/** Turns any error met while handling `file` into a FileFailure for reports. */
export function toFileFailure(e: unknown, file: string): FileFailure {
  if (e instanceof ImageError) return { path: file, code: e.code, reason: e.message };
  const fsError = imageErrorFromFsError(e, file);
  if (fsError) return { path: file, code: fsError.code, reason: fsError.message };
  const message = e instanceof Error ? e.message : String(e);
  const errno = (e as NodeJS.ErrnoException | null)?.code;
  return {
    path: file,
    code: typeof errno === 'string' && errno ? errno : 'ERROR',
    reason: `${path.basename(file) || file}: ${message}`,
  };
}

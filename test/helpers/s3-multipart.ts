/** An S3 multipart upload built step by step through an S3 client (SPEC §13). */
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
  type CompleteMultipartUploadCommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';

export interface UploadTarget {
  readonly Bucket: string;
  readonly Key: string;
  readonly ContentType?: string;
  readonly Metadata?: Record<string, string>;
}

/** Opens an upload of `target` and sends `parts` as parts 1…n: its id and the parts' ETags. */
export async function openUpload(
  s3: S3Client,
  target: UploadTarget,
  parts: readonly Buffer[],
): Promise<{ uploadId: string; etags: string[] }> {
  const created = await s3.send(new CreateMultipartUploadCommand(target));
  const uploadId = created.UploadId!;
  const etags: string[] = [];
  for (const [index, body] of parts.entries()) {
    const part = await s3.send(
      new UploadPartCommand({
        Bucket: target.Bucket,
        Key: target.Key,
        UploadId: uploadId,
        PartNumber: index + 1,
        Body: body,
      }),
    );
    etags.push(part.ETag!);
  }
  return { uploadId, etags };
}

/** The completion of `uploadId` naming `etags` as parts 1…n. */
export function completion(
  target: Pick<UploadTarget, 'Bucket' | 'Key'>,
  uploadId: string,
  etags: readonly string[],
): CompleteMultipartUploadCommand {
  return new CompleteMultipartUploadCommand({
    Bucket: target.Bucket,
    Key: target.Key,
    UploadId: uploadId,
    MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
  });
}

/** Uploads `parts` to `target` as one multipart upload, and completes it. */
export async function uploadInParts(
  s3: S3Client,
  target: UploadTarget,
  parts: readonly Buffer[],
): Promise<CompleteMultipartUploadCommandOutput> {
  const { uploadId, etags } = await openUpload(s3, target, parts);
  return s3.send(completion(target, uploadId, etags));
}

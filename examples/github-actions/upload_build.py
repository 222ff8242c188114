"""Upload a packaged build to Streampixel without releasing it; print its upload id.

The first half of a release from CI (see README.md here): upload with ``autoRelease: false``,
so Streampixel processes and stores the build but nothing goes live; then a release pull
request puts the printed id into the stack config, and merging it runs ``pulumi up``.

Credentials come from the environment, as for the provider: STREAMPIXEL_API_KEY,
STREAMPIXEL_USER_ID, and STREAMPIXEL_API_URL (only for the emulator). The build's URL is
read from STREAMPIXEL_FILE_URL unless ``--file-url`` is given: a presigned URL is a
credential, so keep it out of command lines and logs. Nothing secret is ever printed.

    python upload_build.py --project-id 664f1a2b3c4d5e6f7a8b9c0d
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence

from streampixel_pulumi import RateLimited, StreampixelClient, StreampixelError
from streampixel_pulumi.config import Settings

FILE_URL_ENV = "STREAMPIXEL_FILE_URL"


def main(argv: Sequence[str] | None = None) -> int:
    """Upload once (waiting out a rate limit up to --max-wait) and print the upload id."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--project-id", required=True, help="the Streampixel project id")
    parser.add_argument(
        "--file-url",
        help=f"direct-download URL of the packaged Windows build (.zip); default ${FILE_URL_ENV}",
    )
    parser.add_argument(
        "--max-wait",
        type=float,
        default=300.0,
        help="seconds to wait for Streampixel's rate limit (one upload per user per 2 minutes)",
    )
    args = parser.parse_args(argv)
    file_url = args.file_url or os.environ.get(FILE_URL_ENV, "")
    if not file_url:
        print(f"error: give --file-url or set {FILE_URL_ENV}", file=sys.stderr)
        return 2
    try:
        settings = Settings.load()
        api_key, user_id = settings.require_credentials()
        give_up_at = time.monotonic() + args.max_wait
        with StreampixelClient(api_key, user_id, base_url=settings.api_url) as client:
            while True:
                try:
                    result = client.upload_file(args.project_id, file_url, auto_release=False)
                    break
                except RateLimited as error:
                    if time.monotonic() + error.retry_after > give_up_at:
                        raise
                    print(f"rate limited; retrying in {error.retry_after:.0f} s", file=sys.stderr)
                    time.sleep(error.retry_after)
    except StreampixelError as error:
        print(f"error: upload failed: {error}", file=sys.stderr)
        return 1
    print(result.upload_id)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Safe publication: releases, the privacy-budget ledger, briefs and the public portal."""

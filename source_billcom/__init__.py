"""source-billcom: tap-billcom behind Airbyte's protocol (spec, check, discover, read).

A thin adapter: each command runs the `tap-billcom` executable's own command (`--test`,
`--discover`, a sync) as a child process and translates between the Airbyte protocol and
Singer around it (see README, "Use with Airbyte / PyAirbyte"). Streams, paging, sign-in,
retries and error texts are the tap's; nothing here talks to BILL.
"""

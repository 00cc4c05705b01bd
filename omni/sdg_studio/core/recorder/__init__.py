"""The Synthetic Data Recorder's host-neutral core: config, output policy, manifest, pre-record check, job."""

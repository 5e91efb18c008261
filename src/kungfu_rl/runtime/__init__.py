"""The machine a run uses: device, threads, precision, the allocator, and the versions a
result was produced with. Beside `config`, below every other layer."""

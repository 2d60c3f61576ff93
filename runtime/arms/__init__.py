"""Arms: one per modality. Each turns timestamped input into a Track; arms meet only in fusion."""

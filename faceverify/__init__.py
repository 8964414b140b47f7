"""Face engine: detection, landmarks, head pose, smile, embeddings, liveness (no Django).

Entry points: `faceverify.session.FaceCheck` (one attempt over a camera stream),
`faceverify.session.reference_embedding` (the chip photo), `python -m faceverify` (CLI).
docs/faceverify.md describes the pipeline, its thresholds and their calibration.
"""

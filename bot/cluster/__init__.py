"""Scale-out on one machine: ``buergerbot cluster`` (PostgreSQL, Redis, 2 × action server,
2 × Rasa, 2 × gateway, nginx in front), and the Rasa endpoint configuration for several
instances. Deployment on real machines: deploy/ and docs/DEPLOYMENT.md."""

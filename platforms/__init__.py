"""Where appcluster deploys: one composition per platform, over the same components and profiles."""

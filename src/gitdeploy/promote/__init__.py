"""Promotion between environments: compare two environments' rendered objects, and move
images, chart versions or files from one environment's folder to another's."""

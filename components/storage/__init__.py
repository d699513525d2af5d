"""SharedStorage: one ReadWriteMany volume that every instance mounts at the app's data path.

Variants, one file each: storage_class.py (a claim on an RWX-capable class), nfs.py (a PersistentVolume
on an NFS export, bound to the claim), efs.py (an EFS file system bound the same way through the EFS
CSI driver). Never an inline `nfs:` pod volume, which the restricted profile forbids.
"""

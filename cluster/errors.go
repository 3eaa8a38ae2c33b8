package cluster

import apierrors "k8s.io/apimachinery/pkg/api/errors"

func isNotFound(err error) bool { return err != nil && apierrors.IsNotFound(err) }
